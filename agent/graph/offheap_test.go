package graph

import (
	"reflect"
	"testing"
)

// Mapped memory is invisible to the GC: nothing stored there may hold a
// Go pointer.
func TestOffheapTypes_are_pointer_free(t *testing.T) {
	var hasPointers func(reflect.Type) bool
	hasPointers = func(t reflect.Type) bool {
		switch t.Kind() {
		case reflect.Pointer, reflect.String, reflect.Slice, reflect.Map, reflect.Chan, reflect.Func, reflect.Interface, reflect.UnsafePointer:
			return true
		case reflect.Array:
			return hasPointers(t.Elem())
		case reflect.Struct:
			for i := range t.NumField() {
				if hasPointers(t.Field(i).Type) {
					return true
				}
			}
		}
		return false
	}
	for _, v := range offheapTypes {
		if hasPointers(reflect.TypeOf(v)) {
			t.Errorf("%T is stored outside the Go heap but holds pointers", v)
		}
	}
}
