//go:build heaptop_schema_next

package server

import heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"

// schemaVersion, in a build with -tags heaptop_schema_next, is one more than
// the schema this agent was generated from: a real agent that a current
// heaptop does not match, for the client's schema-mismatch tests
// (test/faults.test.ts). Never build a program for use with this tag.
const schemaVersion = uint32(heaptopv1.SchemaVersion_SCHEMA_VERSION_CURRENT) + 1
