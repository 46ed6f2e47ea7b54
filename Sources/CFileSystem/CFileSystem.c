// Everything is inline in include/CFileSystem.h; SwiftPM needs a source file per C target.
#include "CFileSystem.h"
