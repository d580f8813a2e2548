package introspect

// CacheLen returns the number of entries in the caches of active and of
// refused tokens.
func (in *Introspector) CacheLen() (positive, negative int) {
	return in.positive.len(), in.negative.len()
}
