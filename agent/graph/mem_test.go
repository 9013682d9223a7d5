package graph

import "testing"

func TestMem(t *testing.T) {
	m := NewMem()
	a := Make[uint32](m, 10, 100)
	if len(a) != 10 || cap(a) < 100 {
		t.Fatalf("len %d cap %d", len(a), cap(a))
	}
	for i := range 5000 {
		a = Append(m, a, uint32(i))
	}
	if a[0] != 0 || a[10] != 0 || a[5009] != 4999 {
		t.Fatalf("contents lost on growth: %d %d %d", a[0], a[10], a[5009])
	}
	if m.Bytes() < 5010*4 {
		t.Fatalf("Bytes %d", m.Bytes())
	}
	Free(m, a)
	if m.Bytes() != 0 {
		t.Fatalf("Bytes %d after Free", m.Bytes())
	}
	_ = Make[uint64](m, 1, 1)
	m.Close()
	m.Close()
	if m.Bytes() != 0 {
		t.Fatalf("Bytes %d after Close", m.Bytes())
	}
}
