{
  "targets": [
    {
      "target_name": "lsr_native",
      "sources": [
        "native/src/addon.cc",
        "native/src/common/cpu.cc",
        "native/src/common/crc32c.cc",
        "native/src/common/segment-file.cc",
        "native/src/sparse/build.cc",
        "native/src/sparse/exact.cc",
        "native/src/sparse/approx.cc",
        "native/src/sparse/forward.cc",
        "native/src/sparse/segment-io.cc",
        "native/src/sparse/sparse-binding.cc",
        "native/src/head/fused-head.cc",
        "native/src/head/head-binding.cc",
        "native/src/head/screened-head.cc",
        "native/src/dense/segment.cc",
        "native/src/dense/kernels.cc",
        "native/src/dense/hnsw.cc",
        "native/src/dense/build.cc",
        "native/src/dense/search.cc",
        "native/src/dense/segment-io.cc",
        "native/src/dense/dense-binding.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native/src"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++20", "-O3", "-fexceptions", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++20",
        "OTHER_CPLUSPLUSFLAGS": ["-O3", "-fvisibility=hidden"]
      }
    }
  ]
}
