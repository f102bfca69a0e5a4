// The one translation unit that compiles stb_image (decoding, used by
// data/image_folder.cpp) and stb_image_write (PNG output for reports).
//
// Every other file includes <stb_image.h> / <stb_image_write.h> without the
// IMPLEMENTATION macros; defining them twice would give duplicate symbols.
// stb is third-party code, so its warnings are silenced here only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"

// Only the formats an image folder documents: every other decoder of stb is
// attack surface for files nobody means to train on (TGA, for one, takes
// almost any bytes for an image).
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

#pragma GCC diagnostic pop
