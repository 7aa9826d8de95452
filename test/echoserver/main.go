// Command echoserver is the loopback target of the load benchmarks and the
// demo: fortio's echo handler (?delay=5ms adds latency, ?status=503 picks
// the answer) on the address given, which it prints once it listens.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"

	"fortio.org/fortio/fhttp"
	"fortio.org/log"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on (loopback)")
	flag.Parse()
	log.SetLogLevelQuiet(log.Error)
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "echoserver:", err)
		os.Exit(1)
	}
	fmt.Println("listening on", l.Addr())
	if err := http.Serve(l, http.HandlerFunc(fhttp.EchoHandler)); err != nil {
		fmt.Fprintln(os.Stderr, "echoserver:", err)
		os.Exit(1)
	}
}
