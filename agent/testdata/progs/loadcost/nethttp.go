//go:build nethttp

package main

import (
	"net/http"
	"os"
)

// linkExtra links a net/http server and client without running them.
func linkExtra() {
	if len(os.Args) > 99 {
		_ = http.ListenAndServe(os.Args[1], nil)
		_, _ = http.Get(os.Args[2])
	}
}

// bigType is a value whose type reaches many others.
func bigType() any { return &http.Server{} }
