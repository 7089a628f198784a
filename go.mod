module github.com/flowmatch/flowmatch

go 1.26
