package wsclient

// The kept list of delivery confirmation: written data frames, in order,
// each with the sequence of the confirmation ping that confirms it. A
// small frame's payload is copied into one buffer of the list and its
// item goes back to the pool at once, so that frames waiting for a pong
// cost a few bytes of index each, not an item (a request/response client
// keeps a second of frames: thousands of items held out of the pool made
// the pool allocate). A frame larger than keepCopyMax, or one a
// confirming Send waits for (kept by reference, see keep), stays in its
// item.

// keepCopyMax is the largest payload the kept list copies into its buffer.
const keepCopyMax = 4 << 10

// keptFrame is a frame in the kept list: in its item, or at data[off:off+n].
type keptFrame struct {
	tag uint64
	it  *outItem
	off int // the bound (Options.Confirm) may be large
	n   int32
	typ MessageType
}

// keptList is the kept list, guarded by the outbox's mutex.
type keptList struct {
	frames []keptFrame
	head   int
	data   []byte
	from   int // the first byte of data still needed
}

// empty reports whether no frame is kept.
func (k *keptList) empty() bool { return k.head == len(k.frames) }

// len is the number of frames kept.
func (k *keptList) len() int { return len(k.frames) - k.head }

// lastTag is the tag of the last frame kept; the list must not be empty.
func (k *keptList) lastTag() uint64 { return k.frames[len(k.frames)-1].tag }

// push keeps it with tag. It reports whether it holds on to the item;
// when it does not (the payload was copied), the caller frees it.
func (k *keptList) push(it *outItem, tag uint64) bool {
	n := len(it.f.Data)
	if n > keepCopyMax || it.cw != nil {
		k.frames = append(k.frames, keptFrame{tag: tag, it: it})
		return true
	}
	if k.data == nil {
		k.data = make([]byte, 0, 512)
	}
	k.frames = append(k.frames, keptFrame{tag: tag, off: len(k.data), n: int32(n), typ: it.f.Type})
	k.data = append(k.data, it.f.Data...)
	return false
}

// popUpTo drops the frames with tags up to seq, in order, appending the
// item of each frame kept in one to done (the caller owns them then). It
// returns the number of frames and payload bytes dropped.
func (k *keptList) popUpTo(seq uint64, done []*outItem) (n, bytes int, _ []*outItem) {
	for k.head < len(k.frames) && k.frames[k.head].tag <= seq {
		f := &k.frames[k.head]
		k.head++
		n++
		if f.it != nil {
			bytes += len(f.it.f.Data)
			done = append(done, f.it)
			f.it = nil
			continue
		}
		bytes += int(f.n)
		k.from = f.off + int(f.n)
	}
	switch {
	case k.empty():
		k.reset()
	case k.head > len(k.frames)/2:
		k.compact()
	}
	return n, bytes, done
}

// compact moves the frames still kept, and their bytes, to the front.
func (k *keptList) compact() {
	n := copy(k.frames, k.frames[k.head:])
	clear(k.frames[n:])
	k.frames, k.head = k.frames[:n], 0
	if k.from > 0 {
		m := copy(k.data, k.data[k.from:])
		for i := range k.frames {
			if k.frames[i].it == nil {
				k.frames[i].off -= k.from
			}
		}
		k.data, k.from = k.data[:m], 0
	}
}

// reset empties the list, keeping its buffers.
func (k *keptList) reset() {
	clear(k.frames)
	k.frames, k.head, k.data, k.from = k.frames[:0], 0, k.data[:0], 0
}

// takeAll empties the list and returns its frames as items, in order: a
// copied payload goes back into a pooled item.
func (k *keptList) takeAll() []*outItem {
	items := make([]*outItem, 0, k.len())
	for _, f := range k.frames[k.head:] {
		if f.it != nil {
			items = append(items, f.it)
			continue
		}
		items = append(items, copyItem(Frame{Type: f.typ, Data: k.data[f.off : f.off+int(f.n)]}))
	}
	k.reset()
	return items
}

// items calls fn with each frame kept in its item (tests).
func (k *keptList) items(fn func(*outItem)) {
	for _, f := range k.frames[k.head:] {
		if f.it != nil {
			fn(f.it)
		}
	}
}
