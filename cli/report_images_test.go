package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/report"
)

// TestReportImages: report on a folder with an image model and its classifier writes
// the image section at the sizes given; the classifier is the judge, not a model left
// out; a -reference without files is one warning line, not a failure.
func TestReportImages(t *testing.T) {
	needFashion(t)
	models, out := t.TempDir(), filepath.Join(t.TempDir(), "results")
	writeImageModel(t, models, "fashion-unet.safetensors", smallFashionUNet())
	clf := writeTinyClassifier(t, models)
	code, stdout, stderr := fmRun("report", "-models", models, "-o", out, "-image-n", "20", "-image-sweep-n", "10",
		"-reference", filepath.Join(t.TempDir(), "none"))
	if code != 0 || !strings.Contains(stdout, "1 models evaluated") {
		t.Fatalf("exit %d: %s\n%s", code, stdout, stderr)
	}
	if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "no reference samples at") {
		t.Errorf("stderr %q: want one line on the missing reference", stderr)
	}
	var res report.Results
	b, _ := os.ReadFile(filepath.Join(out, "results.json"))
	if err := json.Unmarshal(b, &res); err != nil || len(res.Images) != 1 || res.Images[0].Headline.N != 20 ||
		res.Images[0].Sweep.N != 10 || res.Images[0].Classifier != filepath.Base(clf) {
		t.Fatalf("results.json: %v\n%s", err, b)
	}
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-image-n", "5"}, "-image-n must be 10 to 60000"},
		{[]string{"-image-sweep-n", "70000"}, "-image-sweep-n must be 10 to 60000"},
		{[]string{"-classifier", models}, "is not a file"},
	} {
		code, _, stderr := fmRun(append([]string{"report", "-models", models, "-o", t.TempDir()}, c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.msg) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, %q; want 2 and one line with %q", c.args, code, stderr, c.msg)
		}
	}
}
