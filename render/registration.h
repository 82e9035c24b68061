/* A registration as docs/output.md's registrations[] entry (call_id, user_agent and
 * expired added). */
#ifndef SIPSCOPE_RENDER_REGISTRATION_H
#define SIPSCOPE_RENDER_REGISTRATION_H

#include <jansson.h>

#include "correlate/correlate.h"

json_t *render_registration_json(const struct registration *r);

#endif
