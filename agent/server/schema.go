//go:build !heaptop_schema_next

package server

import heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"

// schemaVersion is the wire schema this agent speaks (Hello.schema_version).
const schemaVersion = uint32(heaptopv1.SchemaVersion_SCHEMA_VERSION_CURRENT)
