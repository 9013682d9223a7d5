//go:build !(linux && (amd64 || arm64))

package capture

import (
	"context"
	"io"
	"runtime"
)

func (c *Capturer) captureOnce(stop context.Context, consume func(io.Reader) error) (*shot, error) {
	return nil, refuse("heap capture is implemented for linux/amd64 and linux/arm64, not %s/%s", runtime.GOOS, runtime.GOARCH)
}
