package heapdump

// Reader re-reads single records of a dump that Parse has accepted, by the
// offsets Parse reported. No stage of the agent needs it since the graph
// reads the dump once, as a stream; the tests use it to cut real dumps into
// records and to check each record reads alike alone.
// It checks each record as Parse does, except where that needs the
// records before it (order, frame depth, version).
type Reader struct {
	p parser
}

// NewReader returns a Reader over dump.
func NewReader(dump []byte) *Reader {
	return &Reader{p: parser{buf: dump, single: true, ended: true}}
}

// RecordAt reads the record starting at byte offset off, calls the matching
// Visitor method and returns the offset of the next record.
func (r *Reader) RecordAt(off int64, v Visitor) (next int64, err error) {
	p := &r.p
	p.err = nil
	if off < int64(len(Header)) || off >= int64(len(p.buf)) {
		p.tag, p.header = TagEOF, off < int64(len(Header))
		p.fail(int(min(max(off, 0), int64(len(p.buf)))), ErrCorrupt, "no record starts at offset %d", off)
		return off, p.err
	}
	p.off = int(off)
	p.header = false
	p.tag = TagEOF
	p.tag = Tag(p.uvarint())
	if p.err != nil {
		return off, p.err
	}
	if p.tag == TagOtherRoot || p.tag >= Tag(len(tagSection)) {
		p.fail(int(off), ErrCorrupt, "no such record tag")
		return off, p.err
	}
	if err := p.record(int(off), v); err != nil {
		return off, err
	}
	if p.err != nil {
		return off, p.err
	}
	return int64(p.off), nil
}
