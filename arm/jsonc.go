package arm

import (
	"bytes"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/tailscale/hujson"
)

// parseJSONC decodes an ARM file: JSON with // and /* */ comments, trailing
// commas and an optional UTF-8 BOM, as ARM itself accepts. Numbers stay
// json.Number so that integers are told from strings and floats.
func parseJSONC(data []byte) (any, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	std, err := hujson.Standardize(bytes.Clone(data))
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(std))
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	return v, nil
}
