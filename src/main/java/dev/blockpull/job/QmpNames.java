package dev.blockpull.job;

import java.util.Locale;

/**
 * QMP spells enum members in lower case with dashes ({@code set-speed}, {@code nospace}); the
 * job floor's enums are named so that their constants map to those spellings one to one.
 */
final class QmpNames {

    private QmpNames() {}

    static String of(Enum<?> constant) {
        return constant.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
