package fleet

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteJSON prints the report as one JSON object (schema 1).
func (r Report) WriteJSON(w io.Writer) error {
	if r.Hosts == nil {
		r.Hosts = []HostReport{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable prints one row per host, then the problems, then a summary.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tNODE\tOS/ARCH\tVERSION\tACTION\tRESULT\tDETAIL")
	for _, h := range r.Hosts {
		arch := h.OS
		if h.Arch != "" {
			arch += "/" + h.Arch
		}
		detail := h.Reason
		if h.Error != "" {
			detail = h.Error
		} else if h.Note != "" {
			detail = h.Note
		}
		ver := h.InstalledVersion
		if ver == "" {
			ver = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", h.Host, h.NodeName, arch, ver, h.Action, h.Result, oneLine(detail))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, h := range r.Hosts {
		for _, p := range h.Problems {
			fmt.Fprintf(w, "%s: prerequisite error: %s\n", h.Host, p)
		}
		for _, p := range h.Warnings {
			fmt.Fprintf(w, "%s: prerequisite warning: %s\n", h.Host, p)
		}
		if h.Output != "" {
			fmt.Fprintf(w, "%s: installer output (last lines):\n  %s\n", h.Host, strings.ReplaceAll(h.Output, "\n", "\n  "))
		}
	}
	switch r.Command {
	case "plan":
		_, err := fmt.Fprintf(w, "plan: %d of %d host(s) would change in %d wave(s); %d could not be inspected. Nothing was changed.\n",
			r.Changed, len(r.Hosts), r.Waves, r.Failed)
		return err
	default:
		line := fmt.Sprintf("apply: %d changed, %d unchanged, %d failed, %d skipped in %.1fs", r.Changed,
			count(r.Hosts, ResultUnchanged), r.Failed, count(r.Hosts, ResultSkipped), r.Seconds)
		if r.Stopped {
			line += "; stopped: " + r.StopReason
		}
		_, err := fmt.Fprintln(w, line)
		return err
	}
}
