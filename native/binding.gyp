{
  "targets": [
    {
      "target_name": "genlab_native",
      "sources": ["src/genlab_native.c"],
      "cflags": ["-O3", "-std=c11", "-fno-math-errno", "-pthread"],
      "ldflags": ["-pthread"],
      "libraries": ["-lopenblas", "-lm"]
    }
  ]
}
