package prereq

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// ResultText is the RESULT column of the table: ok, skipped, warning, error,
// unknown (warning), unknown (error), and "(ignored)" after a demoted error.
func (r Result) ResultText() string {
	var s string
	switch r.Status {
	case StatusOK:
		return "ok"
	case StatusSkipped:
		return "skipped"
	case StatusUnknown:
		s = "unknown (" + string(r.Severity) + ")"
	default:
		s = string(r.Severity)
	}
	if r.Ignored {
		s += " (ignored)"
	}
	return s
}

// WriteTable prints the results as a table (ID, RESULT, MESSAGE, FIX) and a
// summary line; with errors left it tells how to ignore them, as kubeadm does.
func (r Results) WriteTable(w io.Writer) error {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRESULT\tMESSAGE\tFIX")
	for _, c := range r.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.ID, c.ResultText(), oneLine(c.Message), oneLine(c.Fix))
	}
	tw.Flush()
	for line := range strings.Lines(b.String()) {
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return err
		}
	}
	s := r.Summary
	_, err := fmt.Fprintf(w, "\n%d checks: %d ok, %d %s, %d %s, %d skipped\n", len(r.Checks),
		s.OK, s.Warnings, plural(s.Warnings, "warning"), s.Errors, plural(s.Errors, "error"), s.Skipped)
	if err == nil && len(r.Failed()) > 0 {
		_, err = fmt.Fprintf(w, "Prerequisites failed. If you know what you are doing, make a check non-fatal with --ignore %s (or all).\n", strings.Join(r.Failed(), ","))
	}
	return err
}

// WriteJSON prints the results as one indented JSON object (schema in doc.go).
func (r Results) WriteJSON(w io.Writer) error {
	if r.Checks == nil {
		r.Checks = []Result{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// oneLine keeps a table row on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
