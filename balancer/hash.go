package balancer

// hashString is 64-bit FNV-1a over s followed by a finalizer that spreads
// every input bit over the result, as FNV alone leaves similar keys close
// together on a ring. It is fixed, not seeded per process, so that every
// replica of a gateway maps a key to the same upstream. It allocates
// nothing.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return mix64(h)
}

// mix64 is the finalizer of SplitMix64.
func mix64(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}
