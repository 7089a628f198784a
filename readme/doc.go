// Package readme holds the front door's contract: every command that README.md,
// www/README.md, weights/FORMAT.md and results/README.md show a user is run by
// TestREADME at a small size, or listed there with the reason it is not.
//
// When a document gains a command, the test fails until the command has its clause;
// when a clause's command leaves the documents, the test fails until the clause goes.
// It runs the commands in the checkout itself (they build into bin/, build/ and www/,
// which git ignores) and fails if any of them changes a tracked file, as the README's
// training example once did by overwriting a shipped model.
//
// `make test` runs it as its last step (make test-readme); on its own:
//
//	FLOWMATCH_README_TEST=1 go test -count=1 -v ./readme/
package readme
