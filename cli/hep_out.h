/* HEP out is engine/hep_out.h. This forward lasts until cli/analyze.c, being reworked on
 * another branch (issue 23), names it itself. */
#include "engine/hep_out.h"
