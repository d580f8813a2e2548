package gateway_test

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/vivremotion/gateway"
)

// TestMain runs the package's tests, and then the Proxy's tests once more
// with every upstream reached through net/http's Transport instead of the
// Proxy's own HTTP/1.1 transport, so that one conformance suite holds both
// paths.
func TestMain(m *testing.M) {
	code := m.Run()
	if code != 0 || flagSet("test.bench") || flagSet("test.fuzz") || flagSet("test.list") {
		os.Exit(code)
	}
	if !flagSet("test.run") {
		flag.Set("test.run", "^(TestProxy|ExampleProxy)")
	}
	fmt.Println("--- the Proxy tests again, over net/http's Transport")
	gateway.UseNetHTTPTransport(true)
	os.Exit(m.Run())
}

func flagSet(name string) bool {
	f := flag.Lookup(name)
	return f != nil && f.Value.String() != "" && f.Value.String() != "false"
}
