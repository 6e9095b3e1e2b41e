package engine

import (
	"testing"
	"unsafe"
)

// The hot path's types must not grow: past these sizes the attempt
// goroutines outgrow their first stack and a session's allocation moves
// up a size class (see docs/performance.md). New per-event data goes in
// Detail or in existing padding; new per-attempt data in padding.
func TestHotPathSizes(t *testing.T) {
	for _, c := range []struct {
		name      string
		size, max uintptr
	}{
		{"Event", unsafe.Sizeof(Event{}), 224},
		{"attempt", unsafe.Sizeof(attempt{}), 296},
		{"session", unsafe.Sizeof(session{}), 3448},
		// The summary with eight model lines: one 2,304-byte allocation.
		{"summaryBuf", unsafe.Sizeof(summaryBuf{}), 2304},
	} {
		if c.size > c.max {
			t.Errorf("%s is %d bytes, over %d", c.name, c.size, c.max)
		}
	}
}
