package balancer

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync/atomic"
)

// Defaults of [ConsistentHash].
const (
	DefaultReplicas = 100
	DefaultBalance  = 1.25
)

// ConsistentHash sends requests with the same key to the same upstream, and
// when upstreams join or leave moves only the keys that must move: about
// 1/n of them when one of n leaves. It places [ConsistentHash.Replicas]
// points per unit of [Upstream.Weight] for each upstream on a hash ring,
// and a key goes to the owner of the first point at or after the key's
// hash.
//
// It bounds the load as in "Consistent Hashing with Bounded Loads"
// (Mirrokni, Thorup and Zadimoghaddam, 2016): an upstream with
// [ConsistentHash.Balance] times the average requests in flight or more is
// passed over for the next one on the ring, so a hot key spills to a few
// neighbours rather than overloading its owner. A request with an empty key
// starts at a random point of the ring.
//
// A slice of upstreams that is not a pool snapshot, such as the one the
// proxy's retries pass without the upstreams already tried, gets no ring:
// see [ConsistentHash.Pick].
//
// The ring is built once per healthy snapshot of the pool, with a fixed
// hash (FNV-1a and a mixing step) of each upstream's URL, so that every
// replica of a gateway builds the same ring. The first pick after a change
// of the snapshot builds it while the picks that arrive meanwhile wait:
// about 1.4ms for 100 upstreams and 21ms for 1000 (weights 1 to 3, 100
// replicas per unit of weight) on the machine of the package's figures. Pick hashes the key without
// allocating, searches the ring and takes no lock. It sums the requests in
// flight of all upstreams, a cost linear in their number, on one pick in 16
// and before it passes over a busy owner, not on every pick.
//
// Set the fields before the first Pick and do not change them after. Its
// zero value is ready to use, keyed by [KeyClientIP].
type ConsistentHash struct {
	// Key gives the key of a request; nil means [KeyClientIP]. It is
	// called once per Pick and should not allocate; see [KeyHeader],
	// [KeyCookie] and [KeyPath].
	Key func(*http.Request) string
	// Replicas is the number of points on the ring per unit of weight.
	// More points spread keys more evenly and cost memory and a slower
	// ring build: 12 bytes per point, so keep weights small (1 to 10,
	// not 100 to 1000). Zero means [DefaultReplicas].
	Replicas int
	// Balance is the bound on load, c in the paper: an upstream takes a
	// request only while its requests in flight are under
	// ceil(c × (all in flight + 1) / upstreams). It is at least 1; lower
	// bounds move more keys off their owners under load. Zero means
	// [DefaultBalance]; a negative value turns the bound off.
	Balance float64

	rings perSnapshot[*hashRing]
}

// NewConsistentHash returns a consistent-hash policy keyed by key, with the
// default replicas and load bound. A nil key means [KeyClientIP].
func NewConsistentHash(key func(*http.Request) string) *ConsistentHash {
	return &ConsistentHash{Key: key}
}

// hashRing is the ring of one snapshot: points sorted, and owners[i] the
// index in the snapshot of the upstream at points[i].
type hashRing struct {
	points   []uint64
	owners   []int32
	inflight atomic.Int64 // the requests in flight on the snapshot, as last summed
}

// Pick returns the upstream for the request's key, or nil when ups is
// empty. When ups is not a pool snapshot, it picks by rendezvous hashing
// of the key over ups, without weights or the bound on load, in time
// linear in len(ups).
func (c *ConsistentHash) Pick(r *http.Request, ups []*Upstream) *Upstream {
	n := len(ups)
	if n <= 1 {
		if n == 0 {
			return nil
		}
		return ups[0]
	}
	if !isSnapshot(ups) {
		return c.pickRendezvous(r, ups)
	}
	ring, ok := c.rings.load(ups)
	if !ok {
		ring = c.rings.build(ups, c.buildRing)
	}
	key := KeyClientIP
	if c.Key != nil {
		key = c.Key
	}
	var i int
	if k := key(r); k == "" {
		i = rand.IntN(len(ring.points))
	} else {
		i = ring.search(hashString(k))
	}
	first := ups[ring.owners[i]]
	if c.Balance < 0 || first.Inflight() == 0 {
		return first // an idle upstream is always under the bound
	}
	// The sum of the requests in flight costs a look at every upstream, so
	// it is kept in the ring and refreshed on one pick in 16, and always
	// before the first candidate is passed over. A stale sum can let an
	// upstream over the bound for a few picks, never push one off it.
	total := ring.inflight.Load()
	if rand.Uint32()%16 == 0 || first.Inflight() >= c.limit(total, n) {
		total = 0
		for _, u := range ups {
			total += u.Inflight()
		}
		if ring.inflight.Load() != total {
			ring.inflight.Store(total) // only when changed: the line is shared by all CPUs
		}
	}
	limit := c.limit(total, n)
	for k := range ring.points {
		j := i + k
		if j >= len(ring.points) {
			j -= len(ring.points)
		}
		if u := ups[ring.owners[j]]; u.Inflight() < limit {
			return u
		}
	}
	return first // all at the bound: they moved while we looked
}

// pickRendezvous picks from a slice that is not a pool snapshot, such as
// the one the proxy's retries pass without the upstreams already tried,
// for which no ring is built: the upstream whose name hashed with the key
// scores highest (rendezvous hashing), so that a key still maps to one
// upstream of a given slice. Weights and the bound on load are not applied.
func (c *ConsistentHash) pickRendezvous(r *http.Request, ups []*Upstream) *Upstream {
	key := KeyClientIP
	if c.Key != nil {
		key = c.Key
	}
	k := key(r)
	if k == "" {
		return ups[rand.IntN(len(ups))]
	}
	h := hashString(k)
	best, bestScore := ups[0], uint64(0)
	for _, u := range ups {
		if s := mix64(h ^ u.hashedName()); s >= bestScore {
			best, bestScore = u, s
		}
	}
	return best
}

// limit is the most requests in flight an upstream may have and still
// take one more, when total are in flight on n upstreams.
func (c *ConsistentHash) limit(total int64, n int) int64 {
	balance := c.Balance
	if balance == 0 {
		balance = DefaultBalance
	}
	return int64(math.Ceil(max(balance, 1) * float64(total+1) / float64(n)))
}

// search returns the index of the first point at or after h, wrapping
// around to 0.
func (ring *hashRing) search(h uint64) int {
	lo, hi := 0, len(ring.points)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ring.points[m] < h {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == len(ring.points) {
		return 0
	}
	return lo
}

// buildRing places the points of ups on a ring. Point v of an upstream is
// at mix64 of its URL's hash and v, with the upstream's index in the low
// bits, so that one sort of plain integers orders the ring: 200,000
// points sort in milliseconds where sorting pairs took tens of them.
func (c *ConsistentHash) buildRing(ups []*Upstream) *hashRing {
	replicas := c.Replicas
	if replicas <= 0 {
		replicas = DefaultReplicas
	}
	shift := bits.Len(uint(len(ups))) // low bits that hold the owner
	mask := uint64(1)<<shift - 1
	var total int
	for _, u := range ups {
		total += replicas * u.Weighted()
	}
	packed := make([]uint64, 0, total)
	for i, u := range ups {
		base := u.hashedName()
		for v := range replicas * u.Weighted() {
			h := mix64(base ^ uint64(v+1)*0x9e3779b97f4a7c15)
			packed = append(packed, h&^mask|uint64(i))
		}
	}
	slices.Sort(packed) // equal hashes: by owner, the same on every replica
	ring := &hashRing{points: make([]uint64, len(packed)), owners: make([]int32, len(packed))}
	for i, p := range packed {
		ring.points[i], ring.owners[i] = p&^mask, int32(p&mask)
	}
	return ring
}
