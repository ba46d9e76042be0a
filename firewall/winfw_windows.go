package firewall

import (
	"errors"
	"fmt"
	"io/fs"
	"runtime"

	ole "github.com/go-ole/go-ole"
	"github.com/go-ole/go-ole/oleutil"
)

// comErr turns a COM failure into an error with its HRESULT in hex (go-ole's
// text is often "FormatMessage failed"); E_ACCESSDENIED becomes a
// permission error.
func comErr(err error) error {
	var oe *ole.OleError
	if err == nil || !errors.As(err, &oe) {
		return err
	}
	code := uint32(oe.Code())
	name := map[uint32]string{
		0x80004001: "E_NOTIMPL",
		0x80020006: "DISP_E_UNKNOWNNAME",
		0x8002802B: "TYPE_E_ELEMENTNOTFOUND",
		0x80070002: "not found",
		0x800706BA: "the firewall service is not running",
	}[code]
	if code == 0x80070005 {
		return fmt.Errorf("access is denied (HRESULT 0x80070005, run elevated): %w", fs.ErrPermission)
	}
	if name != "" {
		return fmt.Errorf("HRESULT 0x%08X %s", code, name)
	}
	return fmt.Errorf("HRESULT 0x%08X", code)
}

// comRules is INetFwRules of HNetCfg.FwPolicy2, through go-ole. Every call
// runs on a locked OS thread with COM initialised for it.
type comRules struct{}

// withRules runs f with the policy's Rules collection.
func withRules(f func(rules *ole.IDispatch) error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := ole.CoInitializeEx(0, ole.COINIT_APARTMENTTHREADED); err != nil {
		var oe *ole.OleError
		// S_FALSE (1): already initialised on this thread; still balanced by CoUninitialize.
		if !errors.As(err, &oe) || oe.Code() != 1 {
			return fmt.Errorf("initialise COM: %w", comErr(err))
		}
	}
	defer ole.CoUninitialize()
	unk, err := oleutil.CreateObject("HNetCfg.FwPolicy2")
	if err != nil {
		return fmt.Errorf("create HNetCfg.FwPolicy2: %w", comErr(err))
	}
	defer unk.Release()
	policy, err := unk.QueryInterface(ole.IID_IDispatch)
	if err != nil {
		return fmt.Errorf("HNetCfg.FwPolicy2: %w", comErr(err))
	}
	defer policy.Release()
	v, err := oleutil.GetProperty(policy, "Rules")
	if err != nil {
		return fmt.Errorf("get Rules: %w", comErr(err))
	}
	rules := v.ToIDispatch()
	defer rules.Release()
	return f(rules)
}

func (comRules) list() ([]winRule, error) {
	var out []winRule
	err := withRules(func(rules *ole.IDispatch) error {
		return oleutil.ForEach(rules, func(v *ole.VARIANT) error {
			d := v.ToIDispatch()
			if d == nil {
				return nil
			}
			r, err := readRule(d)
			if err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list firewall rules: %w", comErr(err))
	}
	return out, nil
}

func readRule(d *ole.IDispatch) (winRule, error) {
	var r winRule
	str := func(name string, dst *string) error {
		v, err := oleutil.GetProperty(d, name)
		if err != nil {
			return fmt.Errorf("get %s: %w", name, comErr(err))
		}
		defer v.Clear()
		if s, ok := v.Value().(string); ok {
			*dst = s
		}
		return nil
	}
	num := func(name string, dst *int) error {
		v, err := oleutil.GetProperty(d, name)
		if err != nil {
			return fmt.Errorf("get %s: %w", name, comErr(err))
		}
		defer v.Clear()
		switch n := v.Value().(type) {
		case int32:
			*dst = int(n)
		case int64:
			*dst = int(n)
		case uint32:
			*dst = int(n)
		}
		return nil
	}
	for _, e := range []error{
		str("Name", &r.Name), str("Grouping", &r.Grouping), str("LocalPorts", &r.LocalPorts),
		num("Protocol", &r.Protocol), num("Direction", &r.Direction), num("Action", &r.Action),
	} {
		if e != nil {
			return r, e
		}
	}
	return r, nil
}

func (comRules) add(r winRule) error {
	return withRules(func(rules *ole.IDispatch) error {
		unk, err := oleutil.CreateObject("HNetCfg.FWRule")
		if err != nil {
			return fmt.Errorf("create HNetCfg.FWRule: %w", comErr(err))
		}
		defer unk.Release()
		rule, err := unk.QueryInterface(ole.IID_IDispatch)
		if err != nil {
			return fmt.Errorf("HNetCfg.FWRule: %w", comErr(err))
		}
		defer rule.Release()
		// Protocol must be set before LocalPorts.
		props := []struct {
			name string
			v    any
		}{
			{"Name", r.Name}, {"Description", r.Description}, {"Grouping", r.Grouping},
			{"Protocol", int32(r.Protocol)}, {"LocalPorts", r.LocalPorts},
			{"Direction", int32(r.Direction)}, {"Action", int32(r.Action)},
			{"Profiles", int32(r.Profiles)}, {"Enabled", r.Enabled},
		}
		for _, p := range props {
			if _, err := oleutil.PutProperty(rule, p.name, p.v); err != nil {
				return fmt.Errorf("set %s: %w", p.name, comErr(err))
			}
		}
		if _, err := oleutil.CallMethod(rules, "Add", rule); err != nil {
			return fmt.Errorf("INetFwRules.Add: %w", comErr(err))
		}
		return nil
	})
}

func (comRules) remove(name string) error {
	return withRules(func(rules *ole.IDispatch) error {
		if _, err := oleutil.CallMethod(rules, "Remove", name); err != nil {
			return fmt.Errorf("INetFwRules.Remove: %w", comErr(err))
		}
		return nil
	})
}
