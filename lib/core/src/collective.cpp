// The one-process Collective; see collective.h.
#include "nettrain/core/collective.h"

namespace nettrain {

Collective& single_process() {
  static Collective one;
  return one;
}

}  // namespace nettrain
