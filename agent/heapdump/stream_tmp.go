package heapdump

import "io"

// ParseReader is a stand-in until the streaming parser lands.
func ParseReader(r io.Reader, v Visitor) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	return Parse(b, v)
}
