/* The ITU-T G.107 E-model: the transmission rating R from the planning parameters, and MOS
 * from R (Annex B). Codec impairments (Ie) and packet-loss robustness (Bpl) come from ITU-T
 * G.113 Appendix I. Pure functions; no state. */
#ifndef SIPSCOPE_EMODEL_H
#define SIPSCOPE_EMODEL_H

#include <stdbool.h>

/* G.107 §7, Table 3 names; emodel_defaults() fills the standard's default values. */
struct emodel_params {
    double slr, rlr;     /* send/receive loudness ratings, dB */
    double stmr, lstr;   /* sidetone masking / listener sidetone ratings, dB */
    double ds, dr;       /* D-value of telephone, send and receive side */
    double telr, wepl;   /* talker echo loudness rating, weighted echo path loss, dB */
    double t, tr, ta;    /* mean one-way delay of the echo path, round-trip delay in a
                          * 4-wire loop, absolute delay in echo-free connections, ms */
    double qdu;          /* number of quantization distortion units */
    double ie, bpl;      /* equipment impairment factor, packet-loss robustness factor */
    double ppl;          /* random packet-loss probability, % */
    double burst_r;      /* burst ratio (1: random loss) */
    double nc, nfor;     /* circuit noise referred to 0 dBr point, noise floor, dBm0p */
    double ps, pr;       /* room noise at send and receive side, dB(A) */
    double a;            /* advantage factor */
};

void emodel_defaults(struct emodel_params *p);
/* R = Ro - Is - Id - Ie,eff + A (G.107 §7.1), not clipped. */
double emodel_r(const struct emodel_params *p);

/* The part of R that does not depend on delay, loss or codec (No, Ro, Iolr, Iq): a dozen
 * logarithms and powers that are the same for every stream scored with the default
 * loudness and noise parameters. Computed once (emodel_base) and handed to
 * emodel_r_base, R is the same to the last bit as emodel_r's. */
struct emodel_base {
    double no, ro, iolr, iq;
    double slr, rlr, ps, ds, pr, lstr, nfor, nc, qdu; /* the parameters it was made from */
};
void emodel_base(const struct emodel_params *p, struct emodel_base *b);
/* Whether b was made from p's loudness and noise parameters. */
bool emodel_base_fits(const struct emodel_base *b, const struct emodel_params *p);
double emodel_r_base(const struct emodel_params *p, const struct emodel_base *b);
/* G.107 §7.6: Ie,eff = Ie + (95 - Ie) * Ppl / (Ppl / BurstR + Bpl). */
double emodel_ie_eff(double ie, double bpl, double ppl_pct, double burst_r);
/* G.107 §7.4 Idd, the impairment of absolute delay Ta (ms). */
double emodel_idd(double ta_ms);
/* G.107 Annex B: MOS (conversational quality, estimated) from R. */
double emodel_mos(double r);

struct emodel_codec {
    const char *name;        /* rtpmap encoding name, compared without case */
    double ie, bpl;
    double lookahead_ms;     /* algorithmic delay beyond the packet itself */
    const char *basis;       /* where the figures come from */
};
/* The G.113 row for a codec name, or a stated substitute, or NULL (unknown codec). */
const struct emodel_codec *emodel_codec(const char *name);

#endif
