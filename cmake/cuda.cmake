# Decides whether this build has the CUDA backend (cuda/) and finds what it needs.
#   SWS_CUDA=AUTO (default): built when nvcc, cuBLAS (CUDAToolkit) and cuDNN are all found;
#                            otherwise a CPU-only build and one message line saying why.
#   SWS_CUDA=ON:  any missing piece is a configure error.   SWS_CUDA=OFF: CPU only.
# cuDNN is searched in SWS_CUDNN_ROOT, $CUDNN_ROOT and the CUDA toolkit, then in the Python
# package nvidia-cudnn-cu13 / -cu12 (site-packages/nvidia/cudnn/{include,lib}), whose library is
# only libcudnn.so.9 (no unversioned link).
# Output: SWS_WITH_CUDA (ON/OFF); when ON, CUDA is enabled as a language, the CUDA::cudart and
# CUDA::cublas targets exist, and SWS_CUDNN_LIBRARY / SWS_CUDNN_INCLUDE_DIR are set.

string(TOUPPER "${SWS_CUDA}" _sws_cuda_mode)
if(NOT _sws_cuda_mode MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "SWS_CUDA must be AUTO, ON or OFF, not '${SWS_CUDA}'")
endif()
set(SWS_WITH_CUDA OFF)

# Looks for cuDNN; sets SWS_CUDNN_LIBRARY and SWS_CUDNN_INCLUDE_DIR in the cache when found.
function(_sws_find_cudnn)
  set(hints ${SWS_CUDNN_ROOT} $ENV{CUDNN_ROOT} $ENV{CUDNN_HOME} ${CUDAToolkit_LIBRARY_ROOT}
            ${CUDAToolkit_TARGET_DIR})
  if(CUDAToolkit_BIN_DIR)
    get_filename_component(root "${CUDAToolkit_BIN_DIR}" DIRECTORY)
    list(APPEND hints ${root})
  endif()
  find_path(SWS_CUDNN_INCLUDE_DIR cudnn.h HINTS ${hints} ${CUDAToolkit_INCLUDE_DIRS}
    PATH_SUFFIXES include)
  find_library(SWS_CUDNN_LIBRARY NAMES cudnn libcudnn.so.9 HINTS ${hints}
    PATH_SUFFIXES lib lib64 lib/x64)
  if(SWS_CUDNN_INCLUDE_DIR AND SWS_CUDNN_LIBRARY)
    return()
  endif()
  # pip's nvidia-cudnn-cu13: ask Python where the package is (a namespace package: use __path__).
  find_program(_sws_python NAMES python3 python)
  if(_sws_python)
    execute_process(
      COMMAND ${_sws_python} -c "import nvidia.cudnn as m; print(list(m.__path__)[0])"
      OUTPUT_VARIABLE pip_root OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc ERROR_QUIET)
    if(rc EQUAL 0 AND IS_DIRECTORY "${pip_root}")
      unset(SWS_CUDNN_INCLUDE_DIR CACHE)
      unset(SWS_CUDNN_LIBRARY CACHE)
      find_path(SWS_CUDNN_INCLUDE_DIR cudnn.h HINTS "${pip_root}/include" NO_DEFAULT_PATH)
      find_library(SWS_CUDNN_LIBRARY NAMES cudnn libcudnn.so.9 HINTS "${pip_root}/lib"
        NO_DEFAULT_PATH)
    endif()
  endif()
endfunction()

if(NOT _sws_cuda_mode STREQUAL "OFF")
  set(_sws_cuda_missing "")
  include(CheckLanguage)
  if(NOT DEFINED CMAKE_CUDA_HOST_COMPILER AND CMAKE_CXX_COMPILER)
    set(CMAKE_CUDA_HOST_COMPILER "${CMAKE_CXX_COMPILER}" CACHE FILEPATH "Host compiler for nvcc")
  endif()
  check_language(CUDA)
  if(NOT CMAKE_CUDA_COMPILER)
    # nvcc may exist but off PATH, or unable to build with the host compiler (a g++ newer than
    # it supports): say so, rather than "not found".
    find_program(_sws_nvcc nvcc HINTS ENV CUDA_HOME PATHS /usr/local/cuda/bin)
    if(_sws_nvcc)
      set(_sws_cuda_missing "${_sws_nvcc} exists but CMake's CUDA check did not accept it: put its "
                            "folder on PATH (or set CUDACXX), or set CMAKE_CUDA_HOST_COMPILER to a "
                            "host compiler it supports (now ${CMAKE_CUDA_HOST_COMPILER})")
      string(REPLACE ";" "" _sws_cuda_missing "${_sws_cuda_missing}")
    else()
      set(_sws_cuda_missing "no CUDA compiler (nvcc) found")
    endif()
  else()
    find_package(CUDAToolkit QUIET)
    if(NOT CUDAToolkit_FOUND OR NOT TARGET CUDA::cublas OR NOT TARGET CUDA::cudart)
      set(_sws_cuda_missing "nvcc found but the CUDA toolkit's cudart/cuBLAS were not")
    else()
      _sws_find_cudnn()
      if(NOT SWS_CUDNN_INCLUDE_DIR OR NOT SWS_CUDNN_LIBRARY)
        set(_sws_cuda_missing "nvcc and cuBLAS found but not cuDNN (set SWS_CUDNN_ROOT to the folder "
                              "with include/cudnn.h and lib/libcudnn.so, or pip install nvidia-cudnn-cu13)")
        string(REPLACE ";" "" _sws_cuda_missing "${_sws_cuda_missing}")
      endif()
    endif()
  endif()
  if(_sws_cuda_missing STREQUAL "")
    set(SWS_WITH_CUDA ON)
  elseif(_sws_cuda_mode STREQUAL "ON")
    message(FATAL_ERROR "SWS_CUDA=ON but the CUDA backend cannot be built: ${_sws_cuda_missing}")
  else()
    message(STATUS "sws: CPU-only build (CUDA backend off: ${_sws_cuda_missing})")
  endif()
endif()

if(SWS_WITH_CUDA)
  # A100 and H100/H200 unless the user chose (-DCMAKE_CUDA_ARCHITECTURES or $CUDAARCHS).
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES AND NOT DEFINED ENV{CUDAARCHS})
    set(CMAKE_CUDA_ARCHITECTURES "80;90" CACHE STRING "GPU architectures to compile for")
  endif()
  # The shared runtime, as CUDA::cudart and cuBLAS use: one runtime per process.
  set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)
  enable_language(CUDA)
  message(STATUS "sws: CUDA backend on (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, architectures "
                 "${CMAKE_CUDA_ARCHITECTURES}, cuDNN ${SWS_CUDNN_LIBRARY})")
endif()
