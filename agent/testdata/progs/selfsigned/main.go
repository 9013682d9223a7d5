// Program selfsigned writes a fresh self-signed TLS certificate for
// localhost, 127.0.0.1 and ::1 (valid for an hour) and its private key, as
// PEM, into DIR/cert.pem and DIR/key.pem (mode 0600), for tests that run an
// agent with TLS and point heaptop's --ca at the certificate. No openssl
// needed: it is agenttest.NewSelfSigned.
//
//	go run ./testdata/progs/selfsigned DIR
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/heaptop/heaptop/agent/internal/agenttest"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: selfsigned DIR")
		os.Exit(2)
	}
	cert, err := agenttest.NewSelfSigned()
	if err == nil {
		var certPEM, keyPEM []byte
		if certPEM, keyPEM, err = agenttest.PEM(cert); err == nil {
			err = os.WriteFile(filepath.Join(os.Args[1], "cert.pem"), certPEM, 0o600)
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(os.Args[1], "key.pem"), keyPEM, 0o600)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "selfsigned:", err)
		os.Exit(1)
	}
}
