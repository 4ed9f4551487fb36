module github.com/actas-dev/actas

go 1.26.8
