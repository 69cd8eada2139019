package dataset

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
)

// Order is a deterministic epoch-reshuffled sequence of example indices that
// can restart at any position. Epoch e visits the indices 0..n-1 in a
// permutation derived only from (seed, e), so a run resumed with Seek
// continues with exactly the indices an uninterrupted run would have used.
type Order struct {
	n     int
	seed  uint64
	epoch int
	pos   int
	perm  []int // permutation of epoch permOf, or nil
	// permOf is the epoch perm belongs to; perm is rebuilt lazily so that
	// Seek is cheap.
	permOf int
}

// NewOrder returns the order of n examples shuffled with seed, positioned at
// the start of epoch 0. It panics if n < 1.
func NewOrder(n int, seed uint64) *Order {
	if n < 1 {
		panic(fmt.Sprintf("dataset: NewOrder: n = %d, want at least 1", n))
	}
	return &Order{n: n, seed: seed}
}

// Len returns the number of examples in one epoch.
func (o *Order) Len() int { return o.n }

// Next fills dst with the next batch indices and returns it; dst is grown
// if its capacity is below batch. A batch that reaches the end of an epoch
// continues into the next epoch's permutation, as Caffe's data layer does.
func (o *Order) Next(batch int, dst []int) []int {
	if batch < 0 {
		panic(fmt.Sprintf("dataset: Order.Next: batch = %d, want at least 0", batch))
	}
	if cap(dst) < batch {
		dst = make([]int, batch)
	}
	dst = dst[:batch]
	for i := 0; i < batch; {
		perm := o.permutation()
		k := copy(dst[i:], perm[o.pos:])
		i += k
		o.pos += k
		if o.pos == o.n {
			o.epoch++
			o.pos = 0
		}
	}
	return dst
}

// Position returns the epoch and the position within it of the next index
// Next will return; pos is always in [0, n).
func (o *Order) Position() (epoch, pos int) { return o.epoch, o.pos }

// Seek moves to position pos of epoch, as returned by Position. pos = n is
// taken as the start of the next epoch. It panics if epoch < 0 or pos is
// outside [0, n].
func (o *Order) Seek(epoch, pos int) {
	if epoch < 0 || pos < 0 || pos > o.n {
		panic(fmt.Sprintf("dataset: Order.Seek(%d, %d): want epoch >= 0 and 0 <= pos <= %d", epoch, pos, o.n))
	}
	if pos == o.n {
		epoch, pos = epoch+1, 0
	}
	o.epoch, o.pos = epoch, pos
}

// Perm returns the permutation of epoch, a fresh slice.
func (o *Order) Perm(epoch int) []int {
	return shuffle(o.n, o.seed, epoch)
}

func (o *Order) permutation() []int {
	if o.perm == nil || o.permOf != o.epoch {
		o.perm = shuffle(o.n, o.seed, o.epoch)
		o.permOf = o.epoch
	}
	return o.perm
}

// shuffle returns the permutation of 0..n-1 for (seed, epoch). The PCG
// stream is math/rand/v2's, but the shuffle and the bounded draw are done
// here because only the PCG output is specified: a change to Rand.Shuffle
// in a later Go release would otherwise change a resumed run's order.
func shuffle(n int, seed uint64, epoch int) []int {
	// The epoch is mixed before seeding because PCG states that differ by
	// one produce correlated streams.
	src := rand.NewPCG(seed, splitmix64(uint64(epoch)))
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := boundedUint64(src, uint64(i+1))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// boundedUint64 returns a uniform value in [0, bound) by Lemire's
// multiply-and-reject method, which avoids the bias of a plain modulo.
func boundedUint64(src *rand.PCG, bound uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), bound)
	if lo < bound {
		thresh := -bound % bound
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), bound)
		}
	}
	return hi
}

// splitmix64 is the SplitMix64 finaliser, a bijection on uint64 that
// spreads consecutive inputs across the whole range.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
