// Whether this sws can run on a GPU: built with the CUDA backend (SWS_CUDA, CMakeLists.txt) and a
// GPU is visible. Works in every build; a CPU-only build answers false.
#pragma once
#include <string>

namespace sws {

// True when backend_for(Device::cuda()) will succeed. When false and `why` is given, *why says
// what is missing, e.g. "this sws was built without the CUDA backend" or
// "cudaGetDeviceCount: no CUDA-capable device is detected".
bool cuda_available(std::string* why = nullptr);

}  // namespace sws
