{
  "variables": {
    "libtorch%": "<!(node -p \"process.env.LIBTORCH || ''\")",
    "ideep%": "<!(node -p \"['/usr/include/ideep.hpp', '/usr/include/dnnl.hpp'].every((f) => require('fs').existsSync(f)) ? 1 : 0\")"
  },
  "targets": [{
    "target_name": "auraprune_native",
    "sources": ["csrc/binding.cc", "csrc/ops_elementwise.cc", "csrc/ops_reduce.cc",
                "csrc/ops_shape.cc", "csrc/ops_conv.cc", "csrc/ops_pool.cc", "csrc/ops_misc.cc", "csrc/ops_grad.cc", "csrc/aura.cc"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
    "cflags!": ["-fno-exceptions", "-fno-rtti"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
    "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-frtti", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
    "conditions": [
      ["libtorch==''", {
        "include_dirs": ["/usr/include/torch/csrc/api/include"],
        "libraries": ["-ltorch", "-ltorch_cpu", "-lc10"]
      }, {
        "include_dirs": ["<(libtorch)/include", "<(libtorch)/include/torch/csrc/api/include"],
        "libraries": ["-L<(libtorch)/lib", "-Wl,-rpath,<(libtorch)/lib", "-ltorch", "-ltorch_cpu", "-lc10"]
      }],
      ["libtorch=='' and ideep==1", {
        "defines": ["AP_HAS_IDEEP"],
        "libraries": ["-ldnnl"]
      }]
    ]
  }]
}
