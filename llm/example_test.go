package llm_test

import (
	"fmt"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/echo"
)

// ExampleNewRouter routes a client's model names, aliases included, to
// providers.
func ExampleNewRouter() {
	p := echo.New("")
	r, err := llm.NewRouter(
		llm.Route{Model: "echo", Provider: p},
		llm.Route{Model: "fast", Provider: p, Upstream: "echo"},
	)
	if err != nil {
		panic(err)
	}
	rt, ok := r.Route("fast")
	fmt.Println(ok, rt.Provider.Name(), rt.UpstreamModel())
	_, ok = r.Route("gpt-5")
	fmt.Println(ok)
	// Output:
	// true echo echo
	// false
}
