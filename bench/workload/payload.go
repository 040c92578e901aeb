package workload

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// JSONMessages returns k distinct JSON-like documents of exactly size bytes
// each: an array of event objects with ids, names, tags, timestamps and
// numbers, the kind of text a WebSocket API streams. The output is
// deterministic.
func JSONMessages(k, size int) [][]byte {
	rng := rand.New(rand.NewPCG(6, uint64(size)))
	words := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
		"india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quote", "trade", "order", "book"}
	out := make([][]byte, k)
	for m := range out {
		var b strings.Builder
		b.WriteString(`{"type":"events","seq":`)
		fmt.Fprintf(&b, "%d", m)
		b.WriteString(`,"events":[`)
		for i := 0; b.Len() < size; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"id":%d,"user":"%s_%s","ts":"2025-11-%02dT%02d:%02d:%02d.%03dZ","price":%d.%02d,"qty":%d,"tags":["%s","%s"],"ok":%t}`,
				rng.IntN(1_000_000), words[rng.IntN(len(words))], words[rng.IntN(len(words))],
				1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60), rng.IntN(1000),
				rng.IntN(10000), rng.IntN(100), rng.IntN(500),
				words[rng.IntN(len(words))], words[rng.IntN(len(words))], rng.IntN(2) == 0)
		}
		s := b.String()
		// Cut to size-2 at an object boundary and pad inside a string so the
		// document stays valid JSON of exactly size bytes.
		s = s[:strings.LastIndex(s[:size-16], `},{`)+1]
		pad := size - len(s) - len(`],"pad":""}`)
		s += `],"pad":"` + strings.Repeat(" ", pad) + `"}`
		out[m] = []byte(s)
	}
	return out
}
