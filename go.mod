module github.com/wsclient/wsclient

go 1.26.8
