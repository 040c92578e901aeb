package contenders

import (
	"context"

	"github.com/wsclient/wsclient"
)

func init() {
	register(Contender{
		Name: "wsclient-confirm",
		Desc: "the wsclient-client adapter with delivery confirmation on (Options.Confirm 1 MiB: written frames kept, up to 1 MiB, until a pong confirms them; a Send waits for its confirmation and its frame is kept by reference): the cost of confirmation",
		Dial: func(ctx context.Context, url string, opt Options, h Handler) (Conn, error) {
			return dialWsclientClientWith(ctx, url, opt, h, wsclient.Options{Confirm: 1 << 20})
		},
	})
}
