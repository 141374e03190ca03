/**
 * Test support shared by every floor: {@link dev.blockpull.testsupport.QemuTools} (qemu-img and
 * qemu-io as oracles, skipped loudly when missing, fatal when missing under {@code CI=true}),
 * {@link dev.blockpull.testsupport.Chains} (backing chains with planted patterns and their
 * expected guest content), {@link dev.blockpull.testsupport.AssertImages} and
 * {@link dev.blockpull.testsupport.Qcow2Surgery} (byte patches that make leaks and corruptions).
 */
@NullMarked
package dev.blockpull.testsupport;

import org.jspecify.annotations.NullMarked;
