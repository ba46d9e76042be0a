package netproxy

import (
	"golang.org/x/sys/windows/registry"
)

const winHTTPKey = `SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\Connections`

// systemProxy reads the machine's WinHTTP proxy (nil: direct or not set).
func systemProxy() (*winProxy, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, winHTTPKey, registry.QUERY_VALUE)
	if err != nil {
		return nil, err
	}
	defer k.Close()
	b, _, err := k.GetBinaryValue("WinHttpSettings")
	if err != nil {
		return nil, err
	}
	return parseWinHTTPSettings(b)
}
