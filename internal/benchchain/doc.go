// Package benchchain builds the gateway's full policy chain in front of a
// set of upstreams: a [gateway.Gateway] with a hundred routes and global
// middleware, sending its requests to a [gateway.Proxy] that uses every
// policy the SDK implements today. The load benchmark
// (internal/cmd/loadbench, candidate "policies") and examples/proxy
// -policies serve this same chain, so that what is measured can be run and
// inspected by hand.
//
//	h, names, err := benchchain.Build("http://127.0.0.1:9000")
//	if err != nil {
//		log.Fatal(err)
//	}
//	fmt.Println(names) // the policies in the chain
//	log.Fatal(gateway.ListenAndServe(ctx, "127.0.0.1:8080", h))
//
// Every policy the SDK implements for the Proxy is in the chain. Adding
// one is one more entry in the policies list of chain.go; the benchmark
// and the example both pick it up.
package benchchain
