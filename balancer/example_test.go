package balancer_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/vivremotion/gateway/balancer"
)

func ExampleNewUpstream() {
	u, err := balancer.NewUpstream("h2c://10.0.0.1:50051")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(u, u.Healthy(), u.Weighted())

	_, err = balancer.NewUpstream("http://user:secret@10.0.0.2")
	fmt.Println(err)
	// Output:
	// h2c://10.0.0.1:50051 true 1
	// balancer: bad upstream URL "http://user:secret@10.0.0.2": user information is not allowed
}

func ExampleNewPool() {
	// URLs from configuration: check the error.
	pool, err := balancer.NewPool("http://10.0.0.1:8080", "http://10.0.0.2:8080")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(pool.Healthy()), "healthy")

	_, err = balancer.NewPool("http://10.0.0.1:8080", "http://10.0.0.1:8080")
	fmt.Println(err)
	// Output:
	// 2 healthy
	// balancer: bad upstream URL "http://10.0.0.1:8080": listed twice
}

func ExampleMustPool() {
	// URLs written in the program's source: a mistake panics at start.
	pool := balancer.MustPool("http://10.0.0.1:8080", "http://10.0.0.2:8080")
	first := pool.All()[0]
	pool.SetHealthy(first, false) // what a failing health check does
	for _, u := range pool.Healthy() {
		fmt.Println(u)
	}
	// Output:
	// http://10.0.0.2:8080
}

func ExamplePoolOf() {
	u, _ := balancer.NewUpstream("http://10.0.0.1:8080")
	u.Weight = 3 // fields are set before the upstream joins a pool
	pool, err := balancer.PoolOf(u)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(pool.Healthy()[0], pool.Healthy()[0].Weighted())
	// Output:
	// http://10.0.0.1:8080 3
}

func ExampleRoundRobin() {
	pool := balancer.MustPool("http://10.0.0.1:8080", "http://10.0.0.2:8080", "http://10.0.0.3:8080")
	rr := balancer.NewRoundRobin()
	r := httptest.NewRequest("GET", "/", nil)
	for range 4 {
		fmt.Println(rr.Pick(r, pool.Healthy()))
	}
	// Output:
	// http://10.0.0.1:8080
	// http://10.0.0.2:8080
	// http://10.0.0.3:8080
	// http://10.0.0.1:8080
}
