module github.com/wsclient/wsclient

go 1.26.0

require (
	github.com/klauspost/compress v1.20.4
	github.com/thejerf/suture/v4 v4.0.6
	go.uber.org/goleak v1.3.0
	golang.org/x/net v0.62.0
	golang.org/x/sys v0.50.0
	golang.org/x/term v0.48.0
)

require golang.org/x/text v0.43.0 // indirect
