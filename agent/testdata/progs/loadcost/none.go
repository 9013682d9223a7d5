//go:build !nethttp && !grpc

package main

func linkExtra() {}

// bigType is a value whose type reaches many others.
func bigType() any { return reg }
