package main

import (
	"encoding/binary"
	"runtime"
)

// The secret, planted everywhere a program keeps data: heap objects (a
// string field, a byte slice, a map key, an integer pattern), globals
// (a string, an array in bss), and a goroutine's stack. The value comes
// from the environment, so it is in no file the agent could name either.
type vault struct {
	label   string
	key     []byte
	pattern uint64
	next    *vault
}

var (
	vaults       map[string]*vault
	globalSecret string
	globalBytes  [64]byte
	globalVault  *vault
	parked       = make(chan struct{}) // never closed
)

// secretPattern is the 8-byte pattern the tests also look for, derived
// from the secret so that it is distinctive too.
func secretPattern(s string) uint64 {
	var b [8]byte
	copy(b[:], s)
	return binary.LittleEndian.Uint64(b[:]) ^ 0x5a5a5a5a5a5a5a5a
}

func plant(s string) {
	globalSecret = "global:" + s
	copy(globalBytes[:], s)
	vaults = make(map[string]*vault)
	var prev *vault
	for i := range 100 {
		v := &vault{label: "label:" + s, key: []byte("key:" + s), pattern: secretPattern(s), next: prev}
		vaults["mapkey:"+s+string(rune('a'+i%26))+string(rune('a'+i/26))] = v
		prev = v
	}
	globalVault = prev
	ready := make(chan struct{})
	go func() {
		var onStack [96]byte
		copy(onStack[:], "stack:"+s)
		close(ready)
		<-parked // for good, its frame holding onStack
		runtime.KeepAlive(&onStack)
	}()
	<-ready
}
