module github.com/wsclient/wsclient

go 1.26.8

require (
	github.com/klauspost/compress v1.20.4 // indirect
	golang.org/x/net v0.62.0 // indirect
)
