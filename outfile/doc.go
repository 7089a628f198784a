// Package outfile writes a command's output file without hurting whatever is at the
// path the user named.
//
// A regular file (or a path that does not exist yet) is written atomically: the bytes
// go to a temporary file in the same folder, which is synced and renamed over the
// target only when the writer commits, so a crash, an error or Ctrl-C leaves either the
// old file or the new one, never half of one. A symlink is followed and its target
// written (the link stays a link). Anything else that can be opened for writing — a
// device such as /dev/null, a FIFO, a terminal, /dev/stdout — is written straight
// through and never replaced. A folder is refused before any work, by [Check] or
// [Create].
//
// The usual shape of a command that writes a file:
//
//	if err := outfile.Check(out); err != nil { // before the long work
//		return err
//	}
//	... compute ...
//	f, err := outfile.Create(out)
//	if err != nil { return err }
//	defer f.Abort() // a no-op after Commit
//	... write to f ...
//	return f.Commit()
package outfile
