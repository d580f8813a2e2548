module github.com/vivremotion/gateway

go 1.25
