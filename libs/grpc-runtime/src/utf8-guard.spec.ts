import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { CreateConnectorRequest, FILE_DESCRIPTOR_SET_BASE64, UpdateConnectorRequest } from '@postbote/proto';
import { RequestTypes, invalidUtf8Path, isInvalidUtf8Error, strictReader } from './utf8-guard';

const types = new RequestTypes(FILE_DESCRIPTOR_SET_BASE64);
/** The encoded request with the first occurrence of `marker` replaced by `bytes` of the same length. */
const patched = (encoded: Uint8Array, marker: string, bytes: number[]) => {
  const buf = Buffer.from(encoded);
  const at = buf.indexOf(marker, 0, 'latin1');
  assert.ok(at >= 0);
  Buffer.from(bytes).copy(buf, at);
  return buf;
};

describe('strict UTF-8 in requests', () => {
  it('refuses a surrogate encoded as UTF-8 (ED A0 80) and names the field', () => {
    const bytes = patched(CreateConnectorRequest.encode({ spec: { name: 'ZZZ', workflowId: 'wf' } as never }).finish(), 'ZZZ', [0xed, 0xa0, 0x80]);
    assert.equal(CreateConnectorRequest.decode(bytes).spec?.name, '\ufffd\ufffd\ufffd', 'the lenient decoder would have stored this');
    assert.throws(() => CreateConnectorRequest.decode(strictReader(bytes)), (err) => isInvalidUtf8Error(err));
    assert.equal(invalidUtf8Path(types.of('/postbote.v1.ConnectorService/CreateConnector')!, bytes), 'spec.name');
  });

  it('finds a bad byte deeper down and leaves valid text alone', () => {
    const update = UpdateConnectorRequest.encode({ ref: 'Support', spec: { workflowId: 'QQ', name: 'Grüße 📬' } as never } as never).finish();
    assert.equal(invalidUtf8Path(types.of('/postbote.v1.ConnectorService/UpdateConnector')!, update), null);
    assert.equal(UpdateConnectorRequest.decode(strictReader(update)).spec?.name, 'Grüße 📬');
    const bad = patched(update, 'QQ', [0xc3, 0x28]);
    assert.equal(invalidUtf8Path(types.of('/postbote.v1.ConnectorService/UpdateConnector')!, bad), 'spec.workflow_id');
  });
});
