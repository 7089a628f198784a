// A separate module so that the root module's `go build ./...` (including js/wasm)
// and `go vet ./...` never see this build-time helper.
module github.com/flowmatch/flowmatch/scripts/gotch

go 1.26
