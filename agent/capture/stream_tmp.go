package capture

import (
	"bytes"
	"context"
	"io"
)

// Stream is a stand-in until the piped capture lands.
func (c *Capturer) Stream(ctx context.Context, consume func(dump io.Reader) error) (*Dump, error) {
	d, err := c.Capture(ctx)
	if err != nil {
		return nil, err
	}
	if err := consume(bytes.NewReader(d.Bytes)); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}
