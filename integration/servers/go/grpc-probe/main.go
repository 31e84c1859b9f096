// grpc-probe calls the Isthmus resolver with grpc-go, a gRPC implementation independent of the
// one the resolver's server and the SDK are tested with (grpc-js), so the tests see how a strict,
// widely deployed client reads our framing, headers and trailers. Requests arrive as base64 proto
// bytes made by the test (the proto's own TypeScript encoding); each answer or status goes to
// stdout as one JSON line.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// rawCodec passes message bytes through: the test encodes and decodes them.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }

func (rawCodec) Unmarshal(data []byte, v any) error {
	p := v.(*[]byte)
	*p = append([]byte(nil), data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }

type line struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Body    string `json:"body"`
}

func emit(err error, body []byte) {
	st := status.Convert(err)
	out, _ := json.Marshal(line{Code: int(st.Code()), Message: st.Message(), Body: base64.StdEncoding.EncodeToString(body)})
	fmt.Println(string(out))
}

func main() {
	addr := flag.String("addr", "", "resolver gRPC address, host:port")
	method := flag.String("method", "Resolve", "Resolve or Watch")
	request := flag.String("request", "", "the request message, base64 of its proto bytes")
	token := flag.String("token", "", "bearer token, sent as authorization metadata")
	messages := flag.Int("messages", 1, "Watch: messages to print before cancelling")
	flag.Parse()
	req, err := base64.StdEncoding.DecodeString(*request)
	if err != nil || *addr == "" {
		fmt.Fprintln(os.Stderr, "usage: grpc-probe -addr host:port -method Resolve|Watch -request BASE64 [-token T] [-messages N]")
		os.Exit(2)
	}
	conn, err := grpc.NewClient(*addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if *token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+*token)
	}
	full := "/isthmus.v1.ResolverService/" + *method
	if *method != "Watch" {
		var resp []byte
		err = conn.Invoke(ctx, full, &req, &resp)
		emit(err, resp)
		return
	}
	stream, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, full)
	if err == nil {
		err = stream.SendMsg(&req)
	}
	if err == nil {
		err = stream.CloseSend()
	}
	for i := 0; err == nil && i < *messages; i++ {
		var msg []byte
		if err = stream.RecvMsg(&msg); err == nil {
			emit(nil, msg)
		}
	}
	if err != nil {
		emit(err, nil)
	}
}
