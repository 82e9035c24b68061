/* The pipeline is engine/pipeline.h. This forward lasts until cli/analyze.c and
 * cli/ladder.c, being reworked on another branch (issue 23), name it themselves. */
#include "engine/pipeline.h"
